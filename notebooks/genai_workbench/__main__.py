"""``python -m genai_workbench write-deployment --path PATH --out FILE``."""

from genai_workbench.cli import main

raise SystemExit(main())
