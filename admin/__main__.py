from admin.cli import app

app(prog_name="python -m admin")
