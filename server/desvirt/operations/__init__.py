"""Running Desvirt in production: request ids, structured logs, metrics, proxies, processes."""
