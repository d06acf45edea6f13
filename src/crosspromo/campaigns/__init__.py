"""Joint promotions under an agreement: goal, budget, plan, stages, baseline and analysis."""
