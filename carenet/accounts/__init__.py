"""Users, organizations' memberships, roles, login, API tokens and the access policy."""
