"""Side effects that leave the process (e-mail, webhooks), written in the same transaction."""
