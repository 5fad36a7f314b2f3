"""`sim run`: a whole run, cut into shards, rendered in this process, a pool of worker processes or
on Ray, resumable at any moment; and `sim replay`."""
