"""What events-service owns. So far only its event outbox."""

from tessera_shared.db import make_db

db = make_db()
