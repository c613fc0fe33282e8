"""RBC tax-design economy (salesforce/ai-economist real_business_cycle), batched over envs and agents."""
