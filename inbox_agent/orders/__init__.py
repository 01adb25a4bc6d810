"""The store's orders: one typed model, one source per back office (CSV, Shopify, WooCommerce)."""
