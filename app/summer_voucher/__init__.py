"""Kesäseteli: yearly configuration, youth applications and vouchers, employers' compensation claims."""
