"""Companies and associations the portal's employers act for, with data from the trade register."""
