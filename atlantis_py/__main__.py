from atlantis_py.cli import main

raise SystemExit(main())
