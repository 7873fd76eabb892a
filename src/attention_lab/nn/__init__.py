"""The from-scratch models, one concept per file. Import them from ``attention_lab``."""
