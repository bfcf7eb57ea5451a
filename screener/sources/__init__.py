"""Sources turn what arrives (raw mail, SMS exports, webhooks) into Message records."""
