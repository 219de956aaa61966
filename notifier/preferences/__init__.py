"""Recipients' choices: preference switches, global opt-out, quiet hours, signed unsubscribe links."""
