"""City of Helsinki employer e-services portal: Helsinki-lisä, Kesäseteli, TET and the staff back office."""
