"""One template store for every channel, automatic notifications and mailings alike."""
