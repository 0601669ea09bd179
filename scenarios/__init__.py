"""Built-in scenarios, sweeps and chains (``chains/``), shipped as package data of ``valuechain``."""
