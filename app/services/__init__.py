"""Services own transactions: load rows, call the pure domain, write, commit."""
