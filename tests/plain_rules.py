"""Plain forms of rules that the model applies in folded form: the oracles of the tests.

The engines apply these through per-cell thresholds and lines (``economy.coefficients``); the
tests check the folded forms against these, firm by firm.
"""

from valuechain.simulation.economy.rules import investment_rate_of_value


def unit_variable_cost(material_yuan_per_unit, other_yuan_per_unit, kwh_per_unit, power_yuan_per_kwh,
                       workers_per_unit, wage_yuan_per_worker, productivity):
    """Unit variable cost = chain materials + other inputs + (power + labour) / productivity.

    Productivity saves power and labour only, so material coefficients (the Leontief matrix
    and the other inputs) are the same for every firm.
    """
    power_labour = kwh_per_unit * power_yuan_per_kwh + workers_per_unit * wage_yuan_per_worker
    return material_yuan_per_unit + other_yuan_per_unit + power_labour / productivity


def produces(netback_yuan_per_unit, unit_variable_cost_yuan):
    """A firm produces (up to capacity) while its price covers unit variable cost.

    Reference form of the rule; the engines apply it through ``firm.production_threshold``.
    """
    return netback_yuan_per_unit >= unit_variable_cost_yuan


def investment_rate(q, depreciation_rate, adjustment_cost, max_rate):
    """Gross investment per unit of capacity: the Hayashi rule ``delta + q / phi``, at least 0, capped."""
    return investment_rate_of_value(1.0 + q, depreciation_rate, adjustment_cost, max_rate)
