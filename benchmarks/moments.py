"""Print the model's behavioural moments against their targets and sources.

    python benchmarks/moments.py [--replications N] [--scenario NAME]

User-cost elasticity of investment, baseline entry and exit rates, the largest one-year capacity
growth in a boom, the share of stage-years with idle capacity beside imports, and the output
response of each sector to a 10% demand slump (valuechain.simulation.running.moments).
"""

import argparse

from valuechain.simulation.running.moments import measure, slump_table


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replications", type=int, default=10)
    p.add_argument("--scenario", default="baseline")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, as valuechain run")
    p.add_argument("--no-slump", action="store_true", help="skip the demand-slump table")
    args = p.parse_args()
    print(f"{'moment':<24} {'model':>8} {'target':>16}  unit; experiment; source")
    for m in measure(args.scenario, args.replications, overrides=tuple(args.set)):
        flag = "" if m.in_range else "  <- outside"
        print(f"{m.name:<24} {m.model:>8.3f} {f'[{m.low:g}, {m.high:g}]':>16}{flag}  {m.unit}; {m.experiment}; "
              f"{m.source}")
    if args.no_slump:
        return
    print("\noutput response to a 10% demand slump, 2019-2021 (paired, 95% interval over replications):")
    table = slump_table(args.scenario, args.replications, tuple(args.set))
    print(table.to_string(index=False, float_format=lambda x: f"{x:+.3f}"))


if __name__ == "__main__":
    main()
