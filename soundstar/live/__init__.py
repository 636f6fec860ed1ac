"""Live play: an endless piece rendered bar by bar, changes taking effect at the next bar."""
