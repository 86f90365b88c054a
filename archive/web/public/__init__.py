"""What everyone sees: the public pages, sharing (embeds, oEmbed, feeds, sitemap, downloads) and campaigns."""
