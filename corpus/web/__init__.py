"""Articles from the web: fetching under the operator's rules, feeds and sitemaps, pages.

`addresses` says which URLs may be fetched at all (http/https, public addresses unless the
operator allows a host), `fetch` gets one URL within a time and size limit, obeying
robots.txt (`robots`), `feeds` reads an RSS/Atom feed or a sitemap into items, and `pages`
turns an article page into one article with its metadata. Nothing here stores anything:
`index.store.polling` decides what a poll adds.
"""
