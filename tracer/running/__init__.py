"""Running user code: the sandbox client, the fork server, the locked-down child, its guards."""
