"""The economy: pure functions and typed records for prices, levers, markets, firms' rules and accounts."""
