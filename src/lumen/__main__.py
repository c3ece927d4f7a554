from lumen.cli import main

main()
