"""Niangjia (娘家人): a trade union's assistant for workers' rights."""
