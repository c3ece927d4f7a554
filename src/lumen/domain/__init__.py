"""Pure rules: no Slack, no litellm, no database. Everything here is data in, data out."""
