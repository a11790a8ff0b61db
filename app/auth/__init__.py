"""Identity: OIDC login for employers (acting for a business id) and for staff (with roles), sessions."""
