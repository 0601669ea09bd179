"""The results schema: tidy keys, columns, units and levers, shared by the model and the analysis.

Money is in million yuan (``MONEY_SCALE``), quantities in each stage's physical unit per
year, employment in workers. ``UNITS`` documents every column; the manifest carries it.
"""

from __future__ import annotations

import pandas as pd

from .economy.levers import LEVERS as _REGISTRY

TIDY_KEYS = ["scenario", "replication", "year", "sector", "stage", "tier"]
MONEY_SCALE = 1e-6  # yuan -> million yuan
UNITS = {
    "firms": "firms alive at year end",
    "capacity": "stage unit per year (producing capacity at the start of the year)",
    "output": "stage unit per year",
    "output_above_scale": ("stage unit per year: output of the plants whose sales at factory-gate prices are "
                           "at least 20 million yuan a year, the NBS above-scale threshold since 2011"),
    "utilisation": "output / capacity",
    "value_added": "million yuan (sales at factory gate - intermediate inputs; subsidies excluded)",
    "investment": "million yuan (incumbents' expansion and replacement + new plants)",
    "employment": "workers",
    "exports": "stage unit per year shipped out of the region",
    "local_sales": "stage unit per year sold to local downstream stages",
    "imported_inputs": "million yuan of chain inputs bought outside the region, with inbound freight",
    "entries": "new plants started this year",
    "exits": "firms that left this year",
    "successions": "firms closed this year whose plant a successor took over (ownership turnover)",
    "profit": "million yuan, before income tax",
    "labour_cost": "million yuan of wages",
    "depreciation": "million yuan (capacity x capital cost x depreciation rate)",
    "interest": "million yuan of interest paid on fixed-asset and working-capital loans, net of subsidy",
    "tax_paid": "million yuan of corporate income tax",
    "local_sales_value": "million yuan of local sales at the local price (sellers' mean netback)",
    "local_inputs": "million yuan of chain inputs bought from local suppliers",
    "sales": "million yuan at factory-gate prices",
    "intermediate_inputs": "million yuan (chain inputs, other inputs, electricity at its supply cost)",
    "price": "yuan per stage unit at the destination market (the region's own in a differentiated stage)",
    "unit_cost": "yuan per stage unit, variable cost with local inputs valued at cost",
    "electricity_kwh": "kWh per year used (chain kWh per unit x energy-saving factor x output / productivity)",
    "fiscal_cost": "million yuan",
}
STAGE_COLUMNS = list(UNITS)[:-1]
MONEY = {"local_sales_value", "local_inputs", "value_added", "investment", "imported_inputs", "profit", "tax_paid",
         "sales", "intermediate_inputs", "labour_cost", "depreciation", "interest"}
LEVERS = tuple(lever.key for lever in _REGISTRY)  # the fiscal table's levers, from the registry
LEVER_LABELS = {lever.key: lever.label for lever in _REGISTRY}
LEVER_COST_DEFINITIONS = {lever.key: lever.cost_definition for lever in _REGISTRY}

# Display names for figures, tables and messages: one table, read by the model's reports and the analysis.
# Identifiers not listed (stages, scenario names) are shown as they are, with underscores as spaces for stages.
DISPLAY_NAMES = {
    # sectors
    "agro_food": "Agro & food", "textiles_apparel": "Textiles & apparel", "chemicals": "Chemicals",
    "equipment": "Equipment", "electronics_it": "Electronics & IT materials", "metal_processing": "Metal processing",
    "new_energy_materials": "New energy & materials",
    # tiers and zones
    "raw": "Raw materials", "rough": "Rough processing", "deep": "Deep processing",
    "ordinary": "Ordinary zone", "difficult_area": "Difficult area", "special_zone": "Special economic zone",
    # levers
    "electricity_price": "Electricity price", "freight_subsidy": "Freight subsidy", "tax": "Income tax relief",
    "interest_subsidy": "Interest subsidy",
    # outcomes (the unit is in ``UNITS``; figures add it to the axis label)
    "value_added": "Value added", "investment": "Investment", "downstream_investment": "Downstream investment",
    "employment": "Employment", "fiscal_cost": "Fiscal cost", "profit": "Profit before tax", "labour_cost": "Wages",
    "depreciation": "Depreciation", "interest": "Interest paid, net of subsidy", "tax_paid": "Income tax paid",
    "sales": "Sales", "imported_inputs": "Imported inputs", "local_inputs": "Local inputs",
    "local_sales_value": "Local sales", "intermediate_inputs": "Intermediate inputs",
    "processing_depth": "Processing depth", "firms": "Firms", "entries": "Entries", "exits": "Exits",
    "successions": "Successions",
    "output": "Output", "output_above_scale": "Output above scale",
    "capacity": "Capacity", "exports": "Exports", "local_sales": "Local sales",
    "utilisation": "Utilisation", "price": "Price", "unit_cost": "Unit cost",
    # built-in scenarios
    "baseline": "Baseline", "policy_package_2016": "2016 policy package",
}


def display_name(name: str) -> str:
    """The display name of an identifier (sector, tier, zone, lever, outcome, built-in scenario);
    other identifiers as they are, underscores shown as spaces."""
    return DISPLAY_NAMES.get(str(name), str(name).replace("_", " "))


def chain_hash(chain) -> str:
    """Content hash of a validated chain (its stages, markets and sources, not its file name), kept in
    every manifest: comparisons refuse run sets whose chains differ (``config.scenario.chain_hash``)."""
    from .config.scenario import chain_hash as content_hash

    return content_hash(chain)


def keys_first(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The same frame with the ``keys`` columns first (the tidy layout's convention)."""
    return frame[list(keys) + [c for c in frame.columns if c not in keys]]
