"""The Experiments room: variants of the current network trained one after another and compared."""
