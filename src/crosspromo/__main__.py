from crosspromo.cli import app

app()
