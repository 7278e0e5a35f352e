from curvedoc.cli import run

run()
