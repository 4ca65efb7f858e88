"""The operator CLI: `python -m workbench <command>`; the Makefile's targets are its aliases."""
