"""The automations' inputs (the automation, its trigger, its flow) and the API's output shapes."""
