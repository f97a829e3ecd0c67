"""Duplicate articles: the text a reprint shares with its first copy (`index.dedup.text`), its
MinHash fingerprint (`index.dedup.fingerprint`) and the LSH index that finds the first copy
(`index.dedup.finder`). The store's side (aliases, stored signatures) is `index.store.aliases`."""
