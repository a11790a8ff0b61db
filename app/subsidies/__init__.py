"""Helsinki-lisä: the employer's wage-subsidy application, messages, handling and the calculator."""
