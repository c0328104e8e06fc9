from tessera_launcher.cli import main

raise SystemExit(main())
