package scenario

// Name parts are combined at random, so the generated people are fictional.
var (
	firstNames = []string{
		"Aaliyah", "Aarav", "Abigail", "Adrian", "Aiko", "Alejandro", "Amara", "Amelia", "Anders", "Ananya",
		"Andre", "Aria", "Arjun", "Astrid", "Beatriz", "Benjamin", "Bilal", "Camila", "Carlos", "Chen",
		"Chloe", "Daniel", "Dario", "Elena", "Elif", "Emeka", "Emma", "Ethan", "Fatima", "Felix",
		"Freya", "Gabriel", "Grace", "Hana", "Hannah", "Hiroshi", "Ibrahim", "Ines", "Isaac", "Isla",
		"Jamal", "Javier", "Jin", "Jonas", "Julia", "Kai", "Kavya", "Keisha", "Kenji", "Lars",
		"Layla", "Leo", "Liam", "Lucia", "Luca", "Maya", "Mateo", "Mei", "Mia", "Milan",
		"Nadia", "Naomi", "Nikhil", "Noah", "Nora", "Olga", "Omar", "Oscar", "Priya", "Rafael",
		"Ravi", "Rosa", "Samir", "Sara", "Sebastian", "Sofia", "Soren", "Tariq", "Thomas", "Valentina",
		"Wei", "Yara", "Yusuf", "Zara", "Zoe", "Owen", "Ruby", "Theo", "Ivy", "Mason",
	}
	lastNames = []string{
		"Abara", "Adeyemi", "Alvarez", "Andersen", "Bakshi", "Barros", "Becker", "Bianchi", "Brennan", "Castillo",
		"Chandra", "Cho", "Costa", "Dalton", "Dimitrov", "Dubois", "Eriksen", "Farouk", "Fischer", "Fontaine",
		"Garcia", "Goh", "Haddad", "Hansen", "Hartley", "Hoang", "Ivanova", "Jensen", "Kapoor", "Kato",
		"Keller", "Kowalski", "Kruger", "Laine", "Larsen", "Lindqvist", "Lopez", "Mahmoud", "Marin", "Mendes",
		"Moreau", "Nakamura", "Navarro", "Nguyen", "Novak", "Obi", "Okafor", "Oliveira", "Ortiz", "Park",
		"Petrov", "Quinn", "Ramos", "Rao", "Reyes", "Rossi", "Saito", "Santos", "Schmidt", "Shah",
		"Silva", "Sokolov", "Suzuki", "Tanaka", "Thornton", "Torres", "Vargas", "Vasquez", "Walsh", "Weber",
		"Whitfield", "Xu", "Yamamoto", "Yilmaz", "Zhang", "Zielinski", "Holloway", "Pemberton", "Ashford", "Calloway",
	}
	departments = []struct {
		Name   string
		Weight float64
		Titles []string
	}{
		{"Engineering", 30, []string{"Software Engineer", "Senior Software Engineer", "Staff Engineer", "Engineering Manager", "Site Reliability Engineer"}},
		{"Sales", 18, []string{"Account Executive", "Sales Development Representative", "Sales Engineer", "Regional Sales Director"}},
		{"Marketing", 8, []string{"Product Marketing Manager", "Content Strategist", "Marketing Operations Analyst"}},
		{"Customer Success", 12, []string{"Customer Success Manager", "Support Engineer", "Technical Account Manager"}},
		{"Finance", 6, []string{"Financial Analyst", "Accountant", "Controller", "Payroll Specialist"}},
		{"People", 5, []string{"HR Business Partner", "Recruiter", "People Operations Specialist"}},
		{"Legal", 3, []string{"Corporate Counsel", "Paralegal", "Privacy Counsel"}},
		{"Product", 8, []string{"Product Manager", "Senior Product Designer", "UX Researcher"}},
		{"IT", 5, []string{"IT Support Specialist", "Systems Administrator", "Identity Engineer", "IT Manager"}},
		{"Security", 3, []string{"Security Engineer", "Security Analyst", "Detection Engineer"}},
		{"Operations", 2, []string{"Business Operations Analyst", "Office Manager"}},
	}
)
