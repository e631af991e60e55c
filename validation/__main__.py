from validation.cli import main

main()
