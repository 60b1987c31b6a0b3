"""peewee models, grouped by domain. Models hold tables only: no service logic here."""
