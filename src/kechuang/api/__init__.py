"""The public Python API: reads the store, turns selections into arrays, calls engines and
returns result objects. One module per area (`api/backtest.py`, `api/index.py`, ...); CLI and
web are thin shells over these functions."""
