"""placeholder"""
import click


@click.group("lab")
def lab() -> None:
    """ICT labs."""
