"""TET: employers' work-experience postings, classifications and the pupils' search."""
