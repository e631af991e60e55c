from validation.cli import run

run()
