"""The websocket channel's inbox: storing items, reading pages, marking read, and the socket tokens."""
