"""The local stack: moto in server mode, chalice local, a scheduler loop. Development only."""
