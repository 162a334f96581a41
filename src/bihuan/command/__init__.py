"""指挥体系 command: incidents switched from peacetime to wartime (平转战), their task forces (专班) and tasks."""
