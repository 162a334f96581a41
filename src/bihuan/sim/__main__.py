"""``python -m bihuan.sim district ...``: the sim CLI without the platform's entry point."""

from bihuan.sim.cli import sim_app

sim_app(prog_name="python -m bihuan.sim")
