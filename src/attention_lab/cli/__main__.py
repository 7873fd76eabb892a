"""`python -m attention_lab.cli ...` runs the command line (torchrun needs a module or a script)."""

from attention_lab.cli import main

main()
