"""Offers: mechanics, promo codes, printable coupons, redemption."""
