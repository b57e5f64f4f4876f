"""Local fake servers the integration and job tests talk to, each speaking its provider's documented wire format."""
