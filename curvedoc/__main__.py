from curvedoc.cli import main

raise SystemExit(main())
