"""Trust: who sent a message (DKIM, DMARC, our own threads), budgets, secrets, retention."""
